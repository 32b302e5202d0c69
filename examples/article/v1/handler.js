'use strict';

module.exports.hello = async () => {
  return "Approved";
};
