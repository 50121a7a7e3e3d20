/** Tailwind configuration: scans the templ components for class names. */
module.exports = {
  content: ["./views/**/*.templ", "./views/**/*.go", "./static/js/app.js"],
  theme: {
    extend: {},
  },
  plugins: [require("@tailwindcss/forms")],
};
